-- Seeds the stock the first time the service starts.
return function(req)
  req.stash:create({ id = "apple", name = "Apple", count = 10 })
  req.stash:create({ id = "pear", name = "Pear", count = 2 })
end
