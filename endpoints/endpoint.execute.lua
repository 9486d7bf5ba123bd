-- GET / lists what the showcase serves. Every other URL is a folder below.
return {
  GET = function(req, res)
    res:json({
      service = "showcase",
      routes = {
        ["POST /users"] = "sign up: {email, password (8+ characters), name}",
        ["POST /login"] = "log in: {email, password} -> {token}",
        ["GET /me"] = "the signed-in user",
        ["GET /notes"] = "your notes (?after=<id>&limit=<n>)",
        ["POST /notes"] = "a new note: {title, body}",
        ["GET /notes/{id}"] = "one of your notes; ETag is its version",
        ["PATCH /notes/{id}"] = "change title or body; If-Match: <version>",
        ["DELETE /notes/{id}"] = "delete one of your notes",
      },
      auth = "send Authorization: Bearer <token> to /me and /notes",
    })
  end,
}
