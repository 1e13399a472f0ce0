# Sourced by the measurement scripts (from the repository root): builds the server and the bench tool in Release and
# names them S (sovereign) and B (sovereign-bench).
dotnet build src/SovereignInference.Server -c Release -nologo -v q
dotnet build tools/SovereignInference.Bench -c Release -nologo -v q
S=(dotnet src/SovereignInference.Server/bin/Release/net10.0/sovereign.dll)
B=(dotnet tools/SovereignInference.Bench/bin/Release/net10.0/sovereign-bench.dll)
