-- /notes: list (optionally ?owner=x, served by the owner index) and create.
return {
  GET = function(req, res)
    local where = nil
    if req.query.owner then where = { owner = req.query.owner } end
    res:json(req.stash:list({ where = where, after = req.query.after, limit = tonumber(req.query.limit) or 50 }))
  end,
  POST = function(req, res)
    res:status(201):json(req.stash:create(req.body or {}))
  end,
}
