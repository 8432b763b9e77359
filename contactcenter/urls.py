app_name = "contactcenter"

urlpatterns = []
