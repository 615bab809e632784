module example.com/aadauth-demo

go 1.19
