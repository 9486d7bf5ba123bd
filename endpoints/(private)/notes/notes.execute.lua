-- /notes: the signed-in user's notes. The owner index answers the list without
-- scanning other users' notes; a new note's owner comes from the token.
local notes = require("notes")

return {
  GET = function(req, res)
    res:json(req.stash:list({ where = { owner = req.state.user.id }, after = req.query.after,
                              limit = notes.limit(req.query.limit) }))
  end,
  POST = function(req, res)
    local rec = notes.fields(req.body)
    rec.owner = req.state.user.id
    local note = req.stash:create(rec)
    emit("note.created", { id = note.id, owner = note.owner, title = note.title })
    res:status(201):header("Location", "/notes/" .. note.id):header("ETag", notes.etag(note)):json(note)
  end,
}
