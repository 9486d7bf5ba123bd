return {
  GET = function(req, res)
    local s = string.rep("x", 10000000000)
    res:json({ n = #s })
  end,
}
