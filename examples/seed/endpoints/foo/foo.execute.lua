return {
  GET = function(req, res)
    table.insert(req.state.trace, "execute /foo")
    res:json({ path = req.path, phases = req.state.trace })
  end,
}
