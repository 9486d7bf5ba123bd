-- /notes/{id} works on the records of /notes, the nearest collection above.
-- Another user's note answers 404, exactly like one that does not exist.
local notes = require("notes")

return {
  GET = function(req, res)
    local note = notes.owned(req)
    res:header("ETag", notes.etag(note)):json(note)
  end,
  PATCH = function(req, res)
    local note = notes.owned(req)
    -- With If-Match, a version older than the stored one is a 409. Without
    -- it, the patch is still based on the version just read.
    local note2 = req.stash:patch(note.id, notes.fields(req.body), notes.ifMatch(req) or note._version)
    res:header("ETag", notes.etag(note2)):json(note2)
  end,
  DELETE = function(req, res)
    local note = notes.owned(req)
    -- With If-Match, a version other than the stored one is a 409.
    req.stash:delete(note.id, notes.ifMatch(req))
    emit("note.deleted", { id = note.id, owner = note.owner })
    res:status(204)
  end,
}
