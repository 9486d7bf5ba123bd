-- Doubles a 1 MiB string up to 4 GiB unless it is stopped: .. refuses past 16 MiB.
return {
  GET = function(req, res)
    local s = string.rep("x", 1048576)
    for _ = 1, 12 do
      s = s .. s
    end
    res:json({ n = #s })
  end,
}
