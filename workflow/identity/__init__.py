"""Who someone is and what they may do: the principal, passwords, sessions and tokens, reset
and invitation links, who answers for a position today, and who may read which memo.
"""
