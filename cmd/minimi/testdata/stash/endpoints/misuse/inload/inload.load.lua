-- Writes belong to the last phase: this one raises an error naming the phase.
return { POST = function(req, res) stash.at("/notes"):create({ title = "too early" }) end }
