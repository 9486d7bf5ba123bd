-- /todos: GET lists the todos in creation order (?after=<id>&limit=<n>),
-- POST creates one from {"title": "...", "done": false}.
-- The records live in the collection declared by todos.schema.json.
return {
  GET = function(req, res)
    local limit = math.max(1, math.min(math.floor(tonumber(req.query.limit) or 50), 100))
    res:json(req.stash:list({ after = req.query.after, limit = limit }))
  end,
  POST = function(req, res)
    local b = req.body or {}
    if type(b) ~= "table" or b[1] ~= nil then -- an array, a string, a number
      error({ status = 422, title = "Unprocessable Entity", detail = "the body must be a JSON object" })
    end
    -- Only these fields: the id, _version and timestamps are MiniMi's.
    local todo = req.stash:create({ title = b.title, done = b.done or false })
    emit("todo.created", { id = todo.id, title = todo.title })
    res:status(201):header("Location", "/todos/" .. todo.id):json(todo)
  end,
}
