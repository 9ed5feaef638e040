package main

// The web client: a board serves it at / so that the other person needs
// nothing but a browser and a link (docs/WEB.md). The files are embedded;
// nothing is built at start-up and nothing comes from another origin.
//
// The board's REST paths all end in .json, so every other path is the web
// client's. The REST answers carry Firebase's cross-origin headers, so the
// same static files, published elsewhere, reach a Firebase board or this
// one.

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"unicode/utf8"
)

//go:embed web
var webFiles embed.FS

// webContentSecurityPolicy is what a served page may do: run only its own
// scripts and styles, talk only to its own origin (the board), and never be
// framed. WebRTC's peer traffic is not governed by connect-src.
const webContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webClient serves the embedded files with headers that keep the page to
// itself: the policy above, no sniffing, no referrer (the code travels in
// the URL's fragment, which browsers never send, but a page's links need
// not name it either), and no caching across versions of the binary.
func webClient() http.Handler {
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed: the web client is read-only", http.StatusMethodNotAllowed)
			return
		}
		if !utf8.ValidString(r.URL.Path) {
			// fs paths are UTF-8; the file server would call this a 500.
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", webContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// isWebClientPath tells the web client's paths from the board's, which
// end in .json (or are an event stream, which also ends in .json).
func isWebClientPath(r *http.Request) bool {
	return !strings.HasSuffix(r.URL.Path, ".json")
}

// allowCrossOrigin adds the header Firebase puts on every REST answer:
// any origin may read the board. Nothing depends on cookies or other
// ambient credentials (the admin secret travels in the query), so a
// wildcard gives a page elsewhere nothing a plain HTTP client lacks.
func allowCrossOrigin(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
}

// answerPreflight answers a browser's CORS preflight as Firebase does:
// every method of the REST API, and whatever request headers it asks for
// (a host's claim of its room, for one), for an hour.
func answerPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	allowCrossOrigin(h)
	h.Set("Access-Control-Allow-Methods", "GET, PUT, POST, PATCH, DELETE, OPTIONS")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
	h.Set("Access-Control-Max-Age", "3600")
	w.WriteHeader(http.StatusOK)
}
