-- Builds twenty million small tables unless it is stopped.
return {
  GET = function(req, res)
    local t = {}
    for i = 1, 20000000 do
      t[i] = { i }
    end
    res:json({ n = #t })
  end,
}
