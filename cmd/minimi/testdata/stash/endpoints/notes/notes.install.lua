return function(req)
  req.stash:create({ id = "seed", title = "seeded" })
end
