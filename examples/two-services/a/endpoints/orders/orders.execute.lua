-- Orders: placing one reserves the stock in the inventory service first.
return {
  GET = function(req, res)
    res:json(req.stash:list({ limit = 50 }))
  end,

  POST = function(req, res)
    local b = req.body or {}
    if type(b.sku) ~= "string" then error({ status = 422, detail = "sku is required" }) end
    -- Check the count before the call: an order refused after inventory
    -- reserved its stock would leave that stock reserved for no order.
    local count = b.count or 1
    if type(count) ~= "number" or count < 1 or count % 1 ~= 0 then
      error({ status = 422, detail = "count must be a whole number, at least 1" })
    end

    -- A 4xx or 5xx from inventory comes back as a status; no responder or a
    -- time-out raises (503 / 504) unless caught with pcall.
    local r = service.call("inventory", "POST", "/reserve", { sku = b.sku, count = count })
    if r.status >= 400 then
      local detail = type(r.body) == "table" and r.body.detail or "inventory refused"
      error({ status = r.status < 500 and r.status or 502, detail = detail })
    end

    local order = req.stash:create({ sku = b.sku, count = count, left = r.body.left })
    emit("order.placed", { id = order.id, sku = b.sku, count = count })
    res:status(201):json(order)
  end,
}
