// Package access decides which requests reach the phase pipeline: browser
// origins (CORS) and API clients (keys and addresses). It is step 1 of the
// request pipeline (DESIGN §3) and runs before any phase.
//
// # Origins
//
// A request with an Origin header is a browser's cross-origin request. If the
// origin is not in the whitelist the reply is 403 and nothing else runs; an
// empty whitelist allows no cross-origin request. A listed origin gets
// Access-Control-Allow-Origin (the origin itself), Vary: Origin and
// Access-Control-Expose-Headers: X-Request-Id. A preflight (OPTIONS with
// Access-Control-Request-Method) from a listed origin is answered 204 by
// [CheckEndpoint] (by [AnswerPreflight] for a built-in) with the URL's
// methods, the requested headers (or a default list), and
// Access-Control-Max-Age. A request without Origin is not CORS and passes
// this check. Credentials (cookies) are not enabled: send keys and
// tokens in headers.
//
// # Client keys
//
// When clients are configured, every request except /_minimi/health,
// /_minimi/ready and preflights must carry X-Client-Key. Its SHA-256 is
// compared in constant time with every client's key_sha256; no key or an
// unknown one is 401. A client with CIDRs may call only from those ranges,
// judged by the address of the TCP peer (http.Request.RemoteAddr); headers
// such as X-Forwarded-For are never trusted. Behind a proxy, the proxy's
// address is the one that counts. A client calling from elsewhere is 403.
//
// # Endpoints
//
// The "clients" list of an endpoints entry in the config keeps every other
// client out of that folder and its descendants (403). This check needs the
// folder of the request, so the endpoint handler calls [CheckEndpoint] before
// it runs any phase.
package access
