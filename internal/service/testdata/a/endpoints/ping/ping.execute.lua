return {
  GET = function(req, res)
    local r = service.call("b", "GET", "/ping")
    res:status(r.status):json(r.body)
  end,
}
