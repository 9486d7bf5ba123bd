-- /foobar has only an execute processor; the root's load processor still runs first.
return {
  GET = function(req, res)
    table.insert(req.state.trace, "execute /foobar")
    res:json({ phases = req.state.trace })
  end,
}
