package inbound

import "strings"

func htmlToTextString(s string) (string, error) { return htmlToText(strings.NewReader(s)) }
