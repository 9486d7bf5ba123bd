-- The access phase runs after every load processor: a place to check who asks.
return {
  ANY = function(req, res)
    table.insert(req.state.trace, "access /foo/bar")
    if req.query.deny then
      error({ status = 403, title = "Forbidden", detail = "denied by bar.access.lua" })
    end
  end,
}
