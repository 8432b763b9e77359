class ImpersonationMiddleware:
    """Sets request.impersonation when an account representative is supporting a tenant
    (Impersonate & Support). Until that feature exists, nobody is impersonating."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.impersonation = None
        return self.get_response(request)
