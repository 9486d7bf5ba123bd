-- POST /reserve {sku, count}: takes count items of sku out of the stock.
-- The orders service calls it over NATS; curl can call it over HTTP.
return {
  POST = function(req, res)
    local b = req.body or {}
    local stock = stash.at("/stock")
    local item = stock:get(tostring(b.sku))
    if not item then error({ status = 404, detail = "no item " .. tostring(b.sku) }) end
    local n = b.count or 1
    if type(n) ~= "number" or n < 1 or n % 1 ~= 0 then
      error({ status = 422, detail = "count must be a whole number, at least 1" })
    end
    if item.count < n then error({ status = 409, detail = "only " .. item.count .. " " .. item.name .. " left" }) end
    local left = stock:patch(item.id, { count = item.count - n }, item._version)
    res:status(201):json({ sku = item.id, reserved = n, left = left.count })
  end,
}
