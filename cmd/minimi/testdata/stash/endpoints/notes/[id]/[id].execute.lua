return {
  GET = function(req, res)
    local n = req.stash:get(req.params.id)
    if not n then return res:error(404, "no note") end
    res:json(n)
  end,
  PUT = function(req, res) res:json(req.stash:put(req.params.id, req.body)) end,
  PATCH = function(req, res) res:json(req.stash:patch(req.params.id, req.body, tonumber(req.headers["if-match"]))) end,
  DELETE = function(req, res) res:json({ deleted = req.stash:delete(req.params.id) }) end,
}
