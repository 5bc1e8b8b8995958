-- error() with nil
-- expect: 1 error_object_nil.lua:3: (error object is a nil value)
error(nil)
