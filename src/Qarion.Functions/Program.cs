using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Qarion.Functions;

var builder = QarionApp.Configure(FunctionsApplication.CreateBuilder(args));
await builder.Build().RunAsync();
