return {
  -- ?n=N pads the detail with N bytes, to reach the bus's max payload.
  GET = function(req, res) error({ status = 409, detail = "already taken" .. string.rep("x", tonumber(req.query.n) or 0) }) end,
}
