-- Runs once, the first time the service starts with this collection.
return function(req)
  req.stash:create({ id = "welcome", title = "Welcome to MiniMi", body = "Edit endpoints/ and curl the URLs." })
end
