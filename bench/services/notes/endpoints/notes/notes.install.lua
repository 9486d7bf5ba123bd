-- Seeds 1,000 notes, n0000 to n0999, the first time the service starts.
return function(req)
  for i = 0, 999 do
    req.stash:create({ id = string.format("n%04d", i), title = "seeded note " .. i, owner = "seed" })
  end
end
