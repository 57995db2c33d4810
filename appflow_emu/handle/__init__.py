"""Parts of the user's handle (:class:`appflow_emu.Emulator`, in ``emulator.py``): how its verbs
check their arguments, and the verbs for AppFlow's AWS neighbours. The handle's layer."""
