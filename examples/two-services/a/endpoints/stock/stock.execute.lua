-- The inventory's stock, read through the bus.
return {
  GET = function(req, res)
    local r = service.call("inventory", "GET", "/stock")
    res:status(r.status):json(r.body)
  end,
}
