-- A failed call raises an error the script can catch.
return {
  GET = function(req, res)
    local ok, err = pcall(service.call, "nobody", "GET", "/x")
    res:json({ ok = ok, err = tostring(err) })
  end,
}
