"""web/routers"""
