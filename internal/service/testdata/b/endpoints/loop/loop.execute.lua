-- GET /loop calls itself over the bus (by service.call, or by nats.request
-- with ?via=request): a loop that only the hop limit stops.
return {
  GET = function(req, res)
    local depth = tonumber(req.headers["minimi-hops"]) or 0
    if req.query.via == "request" then
      local r = nats.request("minimi.rpc.b.loop", { query = "via=request" })
      return res:status(r.status):json({ depth = depth, inner = r.body })
    end
    local r = service.call("b", "GET", "/loop")
    res:status(r.status):json({ depth = depth, inner = r.body })
  end,
}
