using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Qarion.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SearchHead : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Ranking reads a small vector (name, slug, description, tags) that stays inline in the row;
            // the full document (with fields and documentation) is large, TOASTed, and only used to match.
            migrationBuilder.Sql(SearchHeadSql.Up);

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(SearchHeadSql.Down);

        }
    }
}
