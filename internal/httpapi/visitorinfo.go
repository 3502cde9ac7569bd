package httpapi

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/medama-io/go-useragent"
	"github.com/parley-chat/parley/internal/chat"
)

// uaParser is built on the first page report: its tables are memory an
// instance without visitors does not need.
var uaParser = sync.OnceValue(useragent.NewParser)

// clientAgent parses a User-Agent into browser, major version, OS, device.
func clientAgent(raw string) chat.ClientAgent {
	if len(raw) > 512 {
		raw = raw[:512]
	}
	ua := uaParser().Parse(raw)
	return chat.ClientAgent{Browser: string(ua.Browser()), BrowserVersion: ua.BrowserVersionMajor(), OS: string(ua.OS()), Device: string(ua.Device())}
}

// reportPage records the page the visitor is on. The answer says nothing of
// what is stored: that is the agents'.
func (s *Server) reportPage(c *gin.Context) {
	var in chat.PageReport
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.svc.ReportPage(c.Request.Context(), c.Param("id"), in, clientAgent(c.Request.UserAgent())); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// visitorInfo is who the visitor of a room is, for the agents.
func (s *Server) visitorInfo(c *gin.Context) {
	info, err := s.svc.Visitor(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, visitorInfoData{RoomID: c.Param("id"), Visitor: info})
}
