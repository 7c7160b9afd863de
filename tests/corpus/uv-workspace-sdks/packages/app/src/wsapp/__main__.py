import corp_base
import corp_client

print("corpus: wsapp:", corp_client.hello())
print("wsapp: corp_base from", corp_base.__file__)
