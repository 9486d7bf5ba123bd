-- GET /notes/{id}: a query that reads one record of the /notes collection.
return {
  GET = function(req, res)
    local note = req.stash:get(req.params.id)
    if not note then return res:error(404, "no note " .. req.params.id) end
    res:json(note)
  end,
}
