package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
)

const adminUsage = `usage:
  parley admin add NAME [DISPLAY NAME] [--email ADDRESS] [--role owner|agent]
                                         password from the first line of stdin, or generated and printed;
                                         the role is owner unless --role says agent
  parley admin passwd NAME               new password from stdin, or generated and printed
  parley admin email NAME ADDRESS        where NAME's notification mails go ("" for none)
  parley admin role NAME owner|agent     what NAME may do (the last owner stays one)
  parley admin list                      NAME, display name, email, role
  parley admin remove NAME               (the last owner too: add one again with add)`

// runAdmin manages admin accounts. With the embedded store, run it while the
// server is stopped: both would write the same snapshot.
func runAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", adminUsage)
	}
	verb, args := args[0], args[1:]
	email, hasEmail := "", false
	role := chat.RoleOwner
	if verb == "add" {
		email, hasEmail, args = cutFlag(args, "email")
		var r string
		var hasRole bool
		if r, hasRole, args = cutFlag(args, "role"); hasRole {
			var err error
			if role, err = chat.ParseRole(r); err != nil {
				return fmt.Errorf("--role: %w", err)
			}
		}
	}
	if verb == "email" {
		email, hasEmail = "", true
		if len(args) == 2 {
			email = args[1]
			args = args[:1]
		}
	}
	if hasEmail {
		var err error
		if email, err = chat.NormalizeAdminEmail(email); err != nil {
			return fmt.Errorf("--email: %w", err)
		}
	}
	need := map[string][2]int{"add": {1, 2}, "passwd": {1, 1}, "list": {0, 0}, "remove": {1, 1}, "email": {1, 1}, "role": {2, 2}}
	n, ok := need[verb]
	if !ok || len(args) < n[0] || len(args) > n[1] {
		return fmt.Errorf("%s", adminUsage)
	}
	b, err := openToolBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()

	switch verb {
	case "list":
		admins, err := b.accounts.List(ctx)
		if err != nil {
			return err
		}
		for _, a := range admins {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", a.Username, a.DisplayName, a.Email, chat.RoleOf(string(a.Role)))
		}
		return nil
	case "email":
		if err := setAdminEmail(ctx, b, args[0], email); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: email set\n", args[0])
		return nil
	case "role":
		r, err := chat.ParseRole(args[1])
		if err != nil {
			return err
		}
		if _, err := b.store.SetAgent(ctx, chat.NormalizeUsername(args[0]), chat.AgentChange{Role: &r}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: role %s\n", args[0], r)
		return nil
	case "remove":
		if err := b.accounts.Remove(ctx, args[0]); err != nil {
			return err
		}
		// The conversations assigned to them go back to nobody.
		if err := b.store.UnassignAll(ctx, chat.NormalizeUsername(args[0])); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", args[0])
		return nil
	}

	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(stdout, "password (empty to generate one): ")
		}
	}
	password, generated := readPassword(stdin)
	switch verb {
	case "add":
		display := ""
		if len(args) == 2 {
			display = args[1]
		}
		err = b.accounts.AddAs(ctx, args[0], display, password, role)
		if err == nil && hasEmail {
			err = setAdminEmail(ctx, b, args[0], email)
		}
	case "passwd":
		err = b.accounts.SetPassword(ctx, args[0], password)
	}
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "%s: password %s (shown only once)\n", args[0], password)
	} else {
		fmt.Fprintf(stdout, "%s: password set\n", args[0])
	}
	return nil
}

// setAdminEmail sets an account's notification address, keeping the rest
// of its profile and its tokens.
func setAdminEmail(ctx context.Context, b *backend, username, email string) error {
	a, err := b.store.Admin(ctx, username)
	if err != nil {
		return err
	}
	p := a.Profile()
	p.Email, p.Notify = email, a.Notify
	return b.store.SetAdminProfile(ctx, username, p)
}

// readPassword takes the first line of stdin, or generates one when stdin is
// empty or a terminal with nothing typed.
func readPassword(stdin io.Reader) (string, bool) {
	if stdin != nil {
		line, _ := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, false
		}
	}
	return auth.RandomPassword(), true
}

// cutFlag takes "--name VALUE" or "--name=VALUE" out of args.
func cutFlag(args []string, name string) (string, bool, []string) {
	for i := 0; i < len(args); i++ {
		if a := args[i]; a == "--"+name && i+1 < len(args) {
			return args[i+1], true, append(args[:i:i], args[i+2:]...)
		} else if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true, append(args[:i:i], args[i+1:]...)
		}
	}
	return "", false, args
}
