return {
  GET = function(req, res)
    local item = req.stash:get(req.params.id)
    if not item then error({ status = 404, detail = "no item " .. req.params.id }) end
    res:json(item)
  end,
}
