-- /notes/{id} works on the records of /notes, the nearest collection above it.
return {
  GET = function(req, res)
    local note = req.stash:get(req.params.id)
    if not note then return res:error(404, "no note " .. req.params.id) end
    res:json(note)
  end,
  PATCH = function(req, res)
    -- If-Match: <version> makes the update conditional: a stale version is a 409.
    res:json(req.stash:patch(req.params.id, req.body or {}, tonumber(req.headers["if-match"])))
  end,
  DELETE = function(req, res)
    if not req.stash:delete(req.params.id) then return res:error(404, "no note " .. req.params.id) end
    res:status(204)
  end,
}
