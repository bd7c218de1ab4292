/* pl-call.c — being written */
