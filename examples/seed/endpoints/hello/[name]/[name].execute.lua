-- A folder named [name] is a path parameter: /hello/ada gives req.params.name == "ada".
return {
  GET = function(req, res)
    local greeting = req.query.greeting or "Hello"
    res:json({ message = greeting .. ", " .. req.params.name .. "!" })
  end,
}
