"""Operations on staff that span accounts, branches and rooms.

A new person is placed in their home rooms, a move between branches changes branch rooms,
a new branch gets its room. They live above accounts, branches and rooms in the layers, so
none of those needs to import another to do its part.
"""
