"""How an alias change is made safely: the lease that serialises release actions across machines
(``lease``) and the planned change written to the history before any alias moves (``change``)."""
