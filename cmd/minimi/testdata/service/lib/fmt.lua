return { join = function(t) return table.concat(t, " > ") end }
