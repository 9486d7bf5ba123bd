local function depth(n)
  return 1 + depth(n + 1)
end

return {
  GET = function(req, res)
    res:json({ depth = depth(1) })
  end,
}
