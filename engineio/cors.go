package engineio

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// applyCORS sets the CORS response headers and reports whether the request
// was a preflight that has been answered.
func (c *config) applyCORS(w http.ResponseWriter, r *http.Request) (answered bool) {
	o := c.CORS
	if o == nil {
		return false
	}
	h := w.Header()
	origin := r.Header.Get("Origin")
	switch {
	case o.AllowOriginFunc != nil:
		if origin != "" && o.AllowOriginFunc(origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
	case len(o.Origins) == 0 || slices.Contains(o.Origins, "*"):
		if o.Credentials && origin != "" {
			// Browsers refuse "*" with credentials: reflect the origin.
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
		}
	default:
		if slices.Contains(o.Origins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Add("Vary", "Origin")
	}
	if o.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(o.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(o.ExposedHeaders, ","))
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := o.Methods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"}
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ","))
	if len(o.AllowedHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(o.AllowedHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if o.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(o.MaxAge))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// originAllowed is the WebSocket origin check: with CORS origins configured
// they apply to WebSocket too (against cross-site WebSocket hijacking);
// without, any origin is accepted, as the reference server does.
func (c *config) originAllowed(r *http.Request) bool {
	o := c.CORS
	origin := r.Header.Get("Origin")
	if o == nil || origin == "" {
		return true
	}
	if o.AllowOriginFunc != nil {
		return o.AllowOriginFunc(origin)
	}
	return len(o.Origins) == 0 || slices.Contains(o.Origins, "*") || slices.Contains(o.Origins, origin)
}

// ApplyCORS writes the CORS headers Options.CORS calls for, as the server
// does for its own requests, and reports whether it answered the request
// itself (a preflight). It is for handlers served beside the engine under
// the same options, such as the Socket.IO client files.
func (s *Server) ApplyCORS(w http.ResponseWriter, r *http.Request) (answered bool) {
	return s.cfg.applyCORS(w, r)
}
