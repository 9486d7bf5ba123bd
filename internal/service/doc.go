// Package service makes a MiniMi service a NATS service: it registers the
// service with the NATS services API (nats.go/micro), so that $SRV.PING,
// $SRV.INFO and $SRV.STATS find it, and answers its routes over NATS through
// the same http.Handler as HTTP. Client is the other side: publish, request,
// and Call a service by name.
//
// # Subjects
//
// A request for path P of service S is sent on minimi.rpc.<S>.<segments of P>:
// S made safe by Name, P cleaned as over HTTP (router.ParsePath), each
// segment of P one token (unescaped, then escaped with url.PathEscape and
// "." as %2E, so that a token never holds ".", "*", ">" or whitespace). On
// the way back an escaped dot segment stays escaped, so that the callee
// refuses it as HTTP does instead of resolving it. The root "/" is minimi.rpc.<S> itself. Each URL of the
// route table is one endpoint of the NATS service, on the subject of its
// pattern: a static folder is its token, a [param] folder "*", a
// [...catch-all] folder ">". Its metadata holds the URL and its methods.
//
// # Envelopes
//
// The request's data is a JSON object, all fields optional (empty data is a
// GET): {"method", "query" (raw, without "?"), "headers" (name → string or
// list of strings), "body", "body_base64", "timeout_ms" (the caller's
// remaining wait; the request is canceled shortly after it)}. "body" is JSON when
// the Content-Type header is JSON or missing (then application/json is set),
// else a string holding the text; binary content goes in "body_base64".
// Headers of the NATS message are added to the request's, the envelope's win.
// The reply is {"status", "headers" (name → list), "body" or "body_base64"}
// by the same rules, the body being JSON when the reply's Content-Type is
// JSON. A reply with status 400 or more also carries the services API's
// Nats-Service-Error and Nats-Service-Error-Code headers. A message without
// a reply subject runs, and its reply is dropped.
//
// # One pipeline
//
// The envelope becomes an *http.Request with RemoteAddr "nats", served by
// Options.Handler into an in-memory ResponseWriter: request ids, the client
// key check, routing, 404/405, problems, logging and commands are those of
// HTTP. A client with cidrs never matches "nats", so it is refused (403) over
// the bus: address ranges cannot be checked there, and the bus is only as
// private as the NATS server's own authentication. The built-ins under
// /_minimi are not served over the bus (404).
//
// # Queue groups
//
// Every endpoint of every instance is in one queue group (DefaultQueueGroup),
// so NATS hands each request to one instance. NATS forms queue groups by
// name across all the subscriptions a subject matches, so a request whose
// subject two endpoints match (/items/new beside /items/[id]) still runs
// once; it runs the route HTTP would pick, but the services API counts it on
// whichever endpoint received it. The data of each endpoint's $SRV.STATS
// entry counts exactly the requests its URL served: served, status_4xx and
// status_5xx.
//
// A path no URL serves is answered by two more subscriptions, on the root
// subject and below it, in a queue group of their own ("<group>-unrouted"):
// they receive a copy of every request and answer only those no URL serves,
// with the handler's 404. They are not endpoints of the services API.
//
// # Hot reload
//
// Update registers a reloaded route table. When its endpoints differ, a new
// NATS service is added before the previous one stops, so that some instance
// answers every request throughout; the new one has a new id and its
// services API stats start from zero. The unrouted subscriptions stay.
//
// # Concurrency and shutdown
//
// Each request runs on its own goroutine, at most Options.MaxInFlight at
// once. Close stops listening, waits for the requests in flight, and answers
// 503 to messages that arrive after it stopped.
package service
