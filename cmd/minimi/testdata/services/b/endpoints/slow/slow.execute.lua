-- Busy for ?ms= milliseconds.
return {
  GET = function(req, res)
    local ms = tonumber(req.query.ms) or 0
    local start = time.ms()
    while time.ms() - start < ms do end
    res:json({ slept = ms })
  end,
}
