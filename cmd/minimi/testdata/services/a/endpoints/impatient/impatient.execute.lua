-- Waits 100ms for a callee that takes 3s: a 504.
return {
  GET = function(req, res)
    local r = service.call("b", "GET", "/slow?ms=3000", nil, { ms = 100 })
    res:json(r)
  end,
}
