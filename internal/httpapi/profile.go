package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// meUpdate is PATCH /api/v1/admin/me as it came: the profile's fields, and
// a new password with the current one.
type meUpdate struct {
	chat.ProfileUpdate
	Password        *string `json:"password"`
	CurrentPassword *string `json:"currentPassword"`
}

// meBody is the profile, with a fresh token when the request changed the
// password (every older token of the account, this request's included, is
// refused from then on).
type meBody struct {
	chat.AdminProfile
	Token     string     `json:"token,omitempty"`
	ExpiresAt *chat.Time `json:"expiresAt,omitempty"`
}

// adminMe answers the calling admin's profile: GET /api/v1/admin/me.
func (s *Server) adminMe(c *gin.Context) {
	p, err := s.svc.AdminProfile(c.Request.Context(), adminClaims(c).Username)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// updateAdminMe changes the fields of the calling admin's profile that the
// body names, and their password: PATCH /api/v1/admin/me. Everything is
// checked before anything is stored.
func (s *Server) updateAdminMe(c *gin.Context) {
	var in meUpdate
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	ctx, me := c.Request.Context(), adminClaims(c).Username
	if in.Password != nil {
		if err := chat.CheckPassword(*in.Password); err != nil {
			s.fail(c, err)
			return
		}
		if in.CurrentPassword == nil || *in.CurrentPassword == "" {
			s.fail(c, chat.Errorf(chat.CodeInvalid, "currentPassword is required to change the password"))
			return
		}
	}
	if _, err := in.ProfileUpdate.Apply(chat.AdminProfile{}); err != nil {
		s.fail(c, err)
		return
	}
	var out meBody
	if in.Password != nil {
		// The current password is checked as a login is, under the login
		// limits: a stolen token cannot guess it quickly.
		_, err := s.svc.Login(ctx, s.accounts, chat.Credentials{Username: me, Password: *in.CurrentPassword}, c.ClientIP())
		if errors.Is(err, chat.ErrBadLogin) {
			err = chat.ErrBadPassword
		}
		if err == nil {
			err = s.accounts.SetPassword(ctx, me, *in.Password)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		adm, err := s.accounts.Admin(ctx, me)
		if err != nil {
			s.fail(c, err)
			return
		}
		tok, exp, err := s.tokens.IssueAdmin(adm)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.Token, out.ExpiresAt = tok, &chat.Time{Time: exp}
	}
	var p chat.AdminProfile
	var err error
	if in.ProfileUpdate == (chat.ProfileUpdate{}) {
		p, err = s.svc.AdminProfile(ctx, me) // only the password: no agent.updated
	} else {
		p, err = s.svc.UpdateAdminProfile(ctx, me, in.ProfileUpdate)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out.AdminProfile = p
	c.JSON(http.StatusOK, out)
}
