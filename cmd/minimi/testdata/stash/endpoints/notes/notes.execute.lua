return {
  GET = function(req, res)
    local where = nil
    if req.query.owner then where = { owner = req.query.owner } end
    res:json({ items = req.stash:list({ where = where, after = req.query.after, limit = tonumber(req.query.limit) }),
               count = req.stash:count() })
  end,
  POST = function(req, res)
    local note = req.stash:create(req.body)
    if req.query.fail then error({ status = 400, detail = "failed after writing" }) end
    if req.query.crash then error("crashed after writing") end
    emit("note.created", { id = note.id })
    res:status(201):json(note)
  end,
}
